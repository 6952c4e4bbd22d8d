import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Agency, PostAssignment, User


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.Sequence(lambda n: f"Agencia {n}")
    kind = "government"
    country = "MX"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="es_MX")
    last_name = factory.Faker("last_name", locale="es_MX")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.django.Password("correct horse battery staple")


class PostAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostAssignment

    user = factory.SubFactory(UserFactory)
    place = factory.SubFactory("tests.factories.crossings.PlaceFactory")


def confirmed_totp(user: User) -> TOTPDevice:
    """A confirmed TOTP device for the user (what MFA enrolment leaves behind)."""
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)
