"""GET /health: what the deploy's health gate and smoke check read.

It answers JSON with the commit this release was built from (the REVISION file the deploy writes in each release
directory) and whether the database answers. The deploy waits until `commit` is the commit it deployed, so the old
release still serving, or a release that cannot reach its database, is never taken for the new one.

Wire it in core/urls.py:  path('health', health.health),
"""
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def read_revision(base_dir):
    """`commit=<sha>` and `release=<id>` lines of REVISION; empty values outside a deploy (runserver, tests)."""
    values = {'commit': '', 'release': ''}
    path = Path(base_dir) / 'REVISION'
    if path.is_file():
        for line in path.read_text().splitlines():
            key, _, value = line.partition('=')
            if key in values:
                values[key] = value.strip()
    return values


@never_cache
def health(request):
    revision = read_revision(settings.BASE_DIR)
    try:
        with connection.cursor() as cursor:
            cursor.execute('SELECT 1')
        database = 'ok'
    except Exception as error:  # the reason is for the operator; the status code is for the health gate
        database = f'error: {type(error).__name__}'
    healthy = database == 'ok'
    return JsonResponse(
        {'status': 'ok' if healthy else 'error', 'database': database, **revision},
        status=200 if healthy else 503,
    )
