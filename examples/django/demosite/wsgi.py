"""WSGI entry point for gunicorn: gunicorn demosite.wsgi"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demosite.settings")
application = get_wsgi_application()
