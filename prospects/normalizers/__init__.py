"""Rule-based normalisers: plain text in, a code from a fixed set out (no ORM, no settings).

Seniority and department from French and English job titles, an industry code from a NAF
label, a NAF code or a LinkedIn-style industry, and the legal form at either end of a company
name. Anything they cannot tell for sure gives "" (unknown) rather than a guess.
"""

from .industries import INDUSTRIES, industry_of
from .legal_forms import LEGAL_FORMS, clean_legal_form
from .titles import DEPARTMENTS, SENIORITIES, department_of, seniority_of

__all__ = [
    "DEPARTMENTS",
    "INDUSTRIES",
    "LEGAL_FORMS",
    "SENIORITIES",
    "clean_legal_form",
    "department_of",
    "industry_of",
    "seniority_of",
]
