"""Counters for autonumber fields, advanced inside the writing transaction (gap-free)."""

from django.db import models


class Sequence(models.Model):
    """The last number handed out for one `project.object.field`."""

    key = models.CharField(max_length=255, unique=True)
    value = models.BigIntegerField(default=0)
