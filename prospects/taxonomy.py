"""The fixed codes of the derived fields, with the labels people see.

The codes are the normalisers' (`prospects.normalizers`); tests hold the two lists equal.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .normalizers import LEGAL_FORMS


class Seniority(models.TextChoices):
    OWNER = "owner", _("Founder, owner or partner")
    C_LEVEL = "c_level", _("General management (C-level)")
    VP = "vp", _("Vice-president")
    DIRECTOR = "director", _("Director")
    HEAD = "head", _("Head of a team or function")
    MANAGER = "manager", _("Manager")
    SENIOR = "senior", _("Senior")
    ENTRY = "entry", _("Individual contributor")
    INTERN = "intern", _("Intern or apprentice")


class Department(models.TextChoices):
    EXECUTIVE = "executive", _("General management")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing and communication")
    CUSTOMER_SUCCESS = "customer_success", _("Customer success and service")
    PRODUCT = "product", _("Product")
    IT = "it", _("IT and engineering")
    HR = "hr", _("Human resources")
    FINANCE = "finance", _("Finance and accounting")
    LEGAL = "legal", _("Legal")
    OPERATIONS = "operations", _("Operations and logistics")
    PURCHASING = "purchasing", _("Purchasing")


class Industry(models.TextChoices):
    SOFTWARE = "software", _("Software publishing")
    IT_SERVICES = "it_services", _("IT services")
    TELECOM = "telecom", _("Telecommunications")
    CONSULTING = "consulting", _("Consulting and business services")
    FINANCE_INSURANCE = "finance_insurance", _("Banking, finance and insurance")
    REAL_ESTATE = "real_estate", _("Real estate")
    RETAIL = "retail", _("Trade and retail")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    CONSTRUCTION = "construction", _("Construction")
    ENERGY = "energy", _("Energy and environment")
    TRANSPORT_LOGISTICS = "transport_logistics", _("Transport and logistics")
    HEALTHCARE = "healthcare", _("Health and social care")
    EDUCATION = "education", _("Education and training")
    MEDIA_MARKETING = "media_marketing", _("Media, advertising and communication")
    HOSPITALITY = "hospitality", _("Hospitality, tourism and leisure")
    PUBLIC_SECTOR = "public_sector", _("Public sector")
    AGRICULTURE_FOOD = "agriculture_food", _("Agriculture and food")
    OTHER = "other", _("Other industry")


# Abbreviations read the same in every language.
LEGAL_FORM_CHOICES = [(form, form) for form in LEGAL_FORMS]
