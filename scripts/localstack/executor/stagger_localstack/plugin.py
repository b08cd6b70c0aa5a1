"""The plux plugin LocalStack finds through the `localstack.lambda.runtime_executor` entry point."""
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "stagger-host"

    def load(self, *args, **kwargs):
        # Imported lazily: LocalStack loads plugin classes before its Lambda service is ready.
        from stagger_localstack.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
