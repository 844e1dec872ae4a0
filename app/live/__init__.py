from app.live.routes import bp

__all__ = ["bp"]
