"""Factories for tests: realistic French values, always inside a given workspace."""

import factory
from django.contrib.auth import get_user_model
from faker import Faker

from prospects.models import Company, Membership, Prospect, Source, Workspace

fake = Faker("fr_FR")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Espace {n}")
    slug = factory.Sequence(lambda n: f"espace-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@sourcier.example")
    is_staff = True
    password = factory.django.Password("motdepasse-solide-42")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Membership.Role.MEMBER


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Société {n}")
    domain = factory.Sequence(lambda n: f"societe-{n}.example")


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    workspace = factory.SubFactory(WorkspaceFactory)
    first_name = factory.LazyFunction(fake.first_name)
    last_name = factory.LazyFunction(fake.last_name)
    company = factory.SubFactory(CompanyFactory, workspace=factory.SelfAttribute("..workspace"))
    email = factory.Sequence(lambda n: f"prospect{n}@societe.example")
    job_title = "Directrice commerciale"
    source = Source.MANUAL
