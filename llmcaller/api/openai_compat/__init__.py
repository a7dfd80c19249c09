"""The OpenAI-compatible door: `/v1/chat/completions`, `/v1/embeddings`,
`/v1/models` and `/v1/responses`.

Thin views over the one call path (the same authentication, limits, planner,
executor and call record as the v1 API); `translate` and `responses_shapes`
turn OpenAI's shapes into the gateway's request records and its results back,
`errors` renders every failure in OpenAI's error shape, and `view` holds what
the views share (the door, the headers every answer carries).
"""
