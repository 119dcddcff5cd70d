"""Workspaces and who belongs to them: a workspace's name (one that cannot pass for another's),
what its new prospects get automatically, and its members' roles."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def tidy_workspace_name(name: str) -> str:
    """The name as shown: invisible characters dropped, runs of spaces made one."""
    visible = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


# Cyrillic and Greek letters drawn like Latin ones (either case, once case-folded): "Асме" in
# Cyrillic reads as "Acme" in the header. Enough to keep a workspace from passing for another;
# not Unicode's whole confusables table.
_LOOKALIKES = str.maketrans(
    {
        **dict(zip("авеіјкмнорстухѕԁԛԝһӏ", "abeijkmhopctyxsdqwhl", strict=True)),
        **dict(zip("αβεζηικμνορτυχϲı", "abezhikmnoptyxci", strict=True)),
    }
)
_MIXABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def workspace_name_key(name: str) -> str:
    """What two names must not share: "Acme  France", "acme france" and "Асме France" (with
    Cyrillic letters) are the same name."""
    folded = unicodedata.normalize("NFKC", tidy_workspace_name(name)).casefold()
    return folded.translate(_LOOKALIKES)


def mixed_scripts(name: str) -> list[str]:
    """The alphabets a name mixes among Latin, Cyrillic and Greek (none when it keeps to one)."""
    found = set()
    for ch in name:
        if ch.isalpha():
            script = unicodedata.name(ch, "").split(" ", 1)[0]
            if script in _MIXABLE_SCRIPTS:
                found.add(script)
    return sorted(found) if len(found) > 1 else []


def auto_enrich_steps(choice: str) -> tuple[str, ...]:
    """A workspace's `auto_enrich` value as its ordered steps ("none" is no step)."""
    return tuple(step for step in choice.split(",") if step and step != "none")


class Workspace(models.Model):
    class AutoEnrich(models.TextChoices):
        """What every new prospect gets automatically, steps in this order."""

        NONE = "none", _("Nothing")
        DROPCONTACT = "dropcontact", _("Dropcontact")
        EMAIL = "email", _("The email waterfall")
        BOTH = "dropcontact,email", _("Dropcontact, then the email waterfall")

    name = models.CharField(_("name"), max_length=200)
    # A lookalike name would let one workspace pass for another in the header and the lists.
    name_key = models.CharField(max_length=200, unique=True, editable=False)
    slug = models.SlugField(_("slug"), unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    # Dropcontact by default: what every workspace got before it could choose.
    auto_enrich = models.CharField(
        _("automatic enrichment of new prospects"),
        max_length=32,
        choices=AutoEnrich.choices,
        default=AutoEnrich.DROPCONTACT,
        help_text=_(
            "Paid lookups every new prospect gets as soon as it is added. Choose “Nothing” "
            "when the workspace has no account with these providers."
        ),
    )
    # The email waterfall's first step, before any paid provider (a job may choose otherwise).
    discovery_first = models.BooleanField(
        _("in-house discovery first"),
        default=False,
        help_text=_(
            "The email waterfall first looks for the address itself, for free (name "
            "permutations, DNS, SMTP), and asks the paid providers only when it finds nothing "
            "verified."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name = tidy_workspace_name(self.name)
        self.name_key = workspace_name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        typed = self.name
        self.name = tidy_workspace_name(self.name)
        key = workspace_name_key(self.name)
        if typed and not key:
            # Only invisible characters: the header would show nothing (and the key clash).
            message = _("Type a name with visible characters.")
            raise ValidationError({"name": ValidationError(message, code="name_invisible")})
        if mixed_scripts(self.name):
            message = _(
                "This name mixes alphabets (Latin letters with Cyrillic or Greek ones that look "
                "alike). Type it in one alphabet."
            )
            raise ValidationError({"name": ValidationError(message, code="name_mixed_scripts")})
        if key and Workspace.objects.filter(name_key=key).exclude(pk=self.pk).exists():
            message = _(
                "Another workspace already has this name (case and spaces do not count). "
                "Choose a name that cannot be mistaken for it."
            )
            raise ValidationError({"name": ValidationError(message, code="name_taken")})

    @property
    def auto_enrich_steps(self) -> tuple[str, ...]:
        """The pipelines new prospects go through, in order: "dropcontact" and/or "email"."""
        return auto_enrich_steps(self.auto_enrich)


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("workspace")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.workspace}"
