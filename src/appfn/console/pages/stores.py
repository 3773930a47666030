"""Console section: stores."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
