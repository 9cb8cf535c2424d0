def cooperative(request):
    return {"cooperative": getattr(request, "tenant", None)}
