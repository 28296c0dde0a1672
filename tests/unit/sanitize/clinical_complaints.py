"""Complaints as a triage writes them (a symptom and how long it has lasted), for the
clinical-record tests."""

from __future__ import annotations

from faker import Faker

SYMPTOMS = ("dor de cabeça", "febre", "tosse seca", "dor lombar", "falta de ar",
            "dor abdominal", "náusea e vômitos", "tontura", "dor torácica")  # fmt: skip


def complaint_text(fake: Faker) -> str:
    return f"{fake.random_element(SYMPTOMS)} há {fake.random_int(1, 15)} dias"
