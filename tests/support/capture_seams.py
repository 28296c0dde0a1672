"""Seams around a real capture server: a sink that keeps every assembled exchange, and a
gRPC interceptor that hands the servicer another context (to delay or record its reads)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from ext_proc_server.core.exchange import Exchange


class RecordingSink:
    """The capture server's sink, keeping every assembled exchange as it came."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def submit(self, exchange: Exchange) -> bool:
        self.exchanges.append(exchange)
        return True

    def start(self) -> None:
        pass

    async def stop(self, *, drain_timeout_s: float) -> None:
        pass


class ContextInterceptor(grpc.aio.ServerInterceptor):
    """Every streaming RPC's servicer gets ``wrap(context)`` instead of its context."""

    def wrap(self, context: grpc.aio.ServicerContext) -> Any:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.stream_stream is None:
            return handler
        inner = handler.stream_stream

        async def wrapped(request_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
            return await inner(request_iterator, self.wrap(context))

        return grpc.stream_stream_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
