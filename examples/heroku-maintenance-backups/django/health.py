"""GET /health: what the deploy's health gate and smoke check read on Heroku.

It answers JSON with the commit the dyno runs (HEROKU_SLUG_COMMIT, from dyno metadata: enable it once with
`heroku labs:enable runtime-dyno-metadata -a <app>`) and whether the database answers. The deploy waits until
`commit` is the commit it released, so a dyno still running the previous slug is never taken for the new one.

Wire it in the project's urls.py:  path('health', health.health),
"""
import os

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute('SELECT 1')
        database = 'ok'
    except Exception as error:  # the reason is for the operator; the status code is for the health gate
        database = f'error: {type(error).__name__}'
    healthy = database == 'ok'
    return JsonResponse(
        {
            'status': 'ok' if healthy else 'error',
            'database': database,
            'commit': os.environ.get('HEROKU_SLUG_COMMIT', ''),
            'release': os.environ.get('HEROKU_RELEASE_VERSION', ''),
        },
        status=200 if healthy else 503,
    )
