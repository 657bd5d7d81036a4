"""Media generation: branded image cards, narrated videos and audio (offline renderers and OpenAI)."""
