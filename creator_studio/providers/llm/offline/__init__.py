"""The offline planner model: a deterministic NLU pipeline that speaks LangChain's chat-model protocol."""
