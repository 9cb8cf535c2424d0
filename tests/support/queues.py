"""The real Celery queues in Redis, for tests that start work without a worker."""

from django.conf import settings

from ebok_platform.celery import app


def queued_syncs(*, purge: bool = False) -> int:
    """Messages waiting on the sync queue; ``purge`` empties it afterwards."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        # Declaring is harmless and makes a never-used queue countable.
        count = channel.queue_declare(settings.CELERY_SYNC_QUEUE).message_count
        if purge:
            channel.queue_purge(settings.CELERY_SYNC_QUEUE)
        return count
