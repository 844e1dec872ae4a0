from app.tags.routes import bp

__all__ = ["bp"]
