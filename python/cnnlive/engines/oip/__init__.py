"""OIP engine: objectives, noise, the compiled ascent, the search, timelines, quality, judging."""
