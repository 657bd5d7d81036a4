"""Revenue Center over HTTP: metrics, products with their prices, A/B tests (read-only; changes go through
approvals)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from creator_studio.api.deps import State, Viewer
from creator_studio.api.problems import responses
from creator_studio.providers.payments.base import Price, Product
from creator_studio.revenue.service import ABTest, ABTestResults, RevenueMetrics
from creator_studio.tools.base import ToolContext

router = APIRouter(prefix="/api/revenue", tags=["revenue"])


class ProductWithPrices(BaseModel):
    product: Product
    prices: list[Price]


@router.get("/metrics", response_model=RevenueMetrics, responses=responses(401, 403, 422, 500))
def metrics(principal: Viewer, state: State,
            period: Annotated[Literal["7d", "30d", "90d", "mtd", "ytd"], Query()] = "30d") -> RevenueMetrics:
    """MRR, ARR, revenue, subscribers and churn for the period."""
    studio = state.studio
    ctx = ToolContext(studio=studio, workspace=principal.workspace, agent="api", now=studio.now())
    return studio.revenue.metrics(principal.workspace, since=ctx.period_start(period), now=ctx.now)


@router.get("/products", response_model=list[ProductWithPrices], responses=responses(401, 403, 500))
def products(principal: Viewer, state: State) -> list[ProductWithPrices]:
    payments = state.studio.payments
    prices = payments.list_prices(principal.workspace_id)
    return [ProductWithPrices(product=p, prices=[x for x in prices if x.product_id == p.id])
            for p in payments.list_products(principal.workspace_id)]


@router.get("/tests", response_model=list[ABTest], responses=responses(401, 403, 500))
def tests(principal: Viewer, state: State) -> list[ABTest]:
    return state.studio.revenue.ab_tests(principal.workspace)


@router.get("/tests/{test_id}", response_model=ABTestResults, responses=responses(401, 403, 404, 422, 500))
def test_results(test_id: Annotated[str, Path(min_length=1, max_length=64)], principal: Viewer, state: State
                 ) -> ABTestResults:
    """A test's variants, conversions and whether a winner is significant yet."""
    return state.studio.revenue.ab_test_results(principal.workspace, test_id)
