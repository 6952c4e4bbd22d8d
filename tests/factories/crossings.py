import factory

from crossings.models import Place


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TST-{n:03d}")
    category = Place.Category.CROSSING
    kind = Place.Kind.ROAD_BRIDGE
    name = factory.Sequence(lambda n: f"Paso de prueba {n}")
    country = "MX"
    state_code = "MX-CHP"
    latitude = 14.68
    longitude = -92.15
    coord_confidence = Place.CoordConfidence.MEDIUM


class TransitPointFactory(PlaceFactory):
    code = factory.Sequence(lambda n: f"TP-{n:03d}")
    category = Place.Category.TRANSIT_POINT
    kind = Place.Kind.SHELTER
