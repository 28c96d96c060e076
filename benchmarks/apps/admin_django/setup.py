"""Configure Django for the admin benchmark and return a logged-in test client."""

from __future__ import annotations

from typing import Any


def client(database: str, user: str, host: str, port: int) -> Any:
    """Django configured on ``database`` (its own tables in the ``django_side`` schema),
    migrated, with a superuser logged in to the returned ``django.test.Client``."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="benchmark-secret-key-not-for-production-use",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="apps.admin_django.urls",
            USE_TZ=False,
            INSTALLED_APPS=[
                "django.contrib.admin",
                "django.contrib.auth",
                "django.contrib.contenttypes",
                "django.contrib.sessions",
                "django.contrib.messages",
                "apps.admin_django",
            ],
            MIDDLEWARE=[
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
            ],
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "APP_DIRS": True,
                    "OPTIONS": {
                        "context_processors": [
                            "django.template.context_processors.request",
                            "django.contrib.auth.context_processors.auth",
                            "django.contrib.messages.context_processors.messages",
                        ]
                    },
                }
            ],
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": database,
                    "USER": user,
                    "HOST": host,
                    "PORT": str(port),
                    "CONN_MAX_AGE": None,
                    "OPTIONS": {"options": "-c search_path=django_side,public"},
                }
            },
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
        django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    model = get_user_model()
    boss = model.objects.filter(username="boss").first() or model.objects.create_superuser(
        "boss", "boss@example.com", "a long benchmark password"
    )
    test_client = Client()
    test_client.force_login(boss)
    return test_client
