"""Compressed assets when the app serves them itself (in production nginx serves them).

Flask-Compress compresses a streamed response (every ``send_file``) chunk by chunk but never
closes the file under it, and the result is sent without a length. The assets are small and
read whole here first, so they are compressed in one piece (gzip included, Content-Length set)
and their file is closed with the response.
"""

from flask import Flask, Response, current_app

from app.extensions import compress


def compress_assets(response: Response) -> Response:
    if response.is_streamed and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]:
        response.direct_passthrough = False
        response.make_sequence()  # reads the file, and closes it when the response closes
    return compress.after_request(response)


def init_app(app: Flask) -> None:
    app.config["COMPRESS_REGISTER"] = False  # compress_assets calls it, after reading the file
    compress.init_app(app)
    app.after_request(compress_assets)
