"""Console section: catalog."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
