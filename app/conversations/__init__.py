from app.conversations.routes import bp

__all__ = ["bp"]
