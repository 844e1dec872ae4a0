from app.errors.handlers import bp

__all__ = ["bp"]
