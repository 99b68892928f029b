"""Dashboard page routes."""

urlpatterns: list = []
