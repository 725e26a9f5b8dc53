"""rating: a whole number of stars in an IntegerField, from 1 (or min) to max (default 5)."""

from apps.fieldtypes.registry import register
from apps.fieldtypes.types._number import NumberFamily


@register
class RatingType(NumberFamily):
    name = "rating"
    storage = "integer"
    default_min = 1
    default_max = 5
