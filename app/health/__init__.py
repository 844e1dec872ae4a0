from app.health.routes import bp

__all__ = ["bp"]
