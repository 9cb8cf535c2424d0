from monitoring import counters


class TrafficCounterMiddleware:
    """Counts each cooperative's requests and API error responses (after routing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cooperative = getattr(request, "tenant", None)
        if cooperative is not None and not cooperative.is_public:
            api_error = request.path.startswith("/api/") and response.status_code >= 400
            counters.count_request(cooperative.schema_name, api_error=api_error)
        return response
