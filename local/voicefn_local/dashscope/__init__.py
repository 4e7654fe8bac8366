"""The embedded DashScope: DashScope's wire protocol served locally with real speech engines.

It is the offline default of ``voicefn serve`` and the fake the tests run against::

    from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
    from voicefn_local.servers import run_in_thread

    with run_in_thread(create_dashscope_app(EmulatorConfig(engine="deterministic"))) as srv:
        dashscope.base_http_api_url = f"{srv.base_url}/api/v1"
        dashscope.base_websocket_api_url = f"{srv.ws_base_url}/api-ws/v1/inference"
"""

from voicefn_local.dashscope.app import create_dashscope_app
from voicefn_local.dashscope.config import EmulatorConfig
from voicefn_local.dashscope.faults import Fault, FaultMatch, FaultRule, FaultTable

__all__ = ["EmulatorConfig", "Fault", "FaultMatch", "FaultRule", "FaultTable",
           "create_dashscope_app"]
