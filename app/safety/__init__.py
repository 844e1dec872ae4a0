from app.safety.routes import bp

__all__ = ["bp"]
