from app.profile.routes import bp

__all__ = ["bp"]
