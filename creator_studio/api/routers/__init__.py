"""One router per area of the API; `creator_studio.api.app` mounts them all."""
