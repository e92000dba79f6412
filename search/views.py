"""The search page and its JSON twin: thin adapters over search.selectors.search."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search import selectors


@require_GET
@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    page = selectors.search(request.user, text, request.GET.get("cursor"))
    return render(request, "search/results.html", {"q": text, "page": page})


@require_GET
def search_api(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse(
            {"error": "not_authenticated", "detail": "Log in to search."}, status=403
        )
    page = selectors.search(request.user, request.GET.get("q", ""), request.GET.get("cursor"))
    return JsonResponse(page.as_json())
