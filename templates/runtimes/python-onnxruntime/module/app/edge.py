"""IoT Edge message handling for {{MODULE_NAME}}: messages arriving on input "input" are scored and
the result is sent to output "output" through the IoT Edge module SDK (azure-iot-device).
Imported by main.py only when IOTEDGE_* variables are present."""
import json
import logging

from . import scoring

LOG = logging.getLogger("{{MODULE_NAME}}.edge")
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def handle_message(scorer, client, message, message_factory):
    """Scores one message. Returns the result sent, or None when the message was not for us or
    could not be scored (the reason is logged)."""
    if getattr(message, "input_name", None) != INPUT_NAME:
        return None
    try:
        result = scorer.score(scoring.parse_body(message.data))
    except scoring.ScoringError as e:
        LOG.warning("message on input %s not scored: %s", INPUT_NAME, e.message)
        return None
    out = message_factory(json.dumps(result))
    out.content_type = "application/json"
    out.content_encoding = "utf-8"
    correlation = getattr(message, "message_id", None)
    if correlation:
        out.correlation_id = correlation
    client.send_message_to_output(out, OUTPUT_NAME)
    return result


def start(scorer):
    """Connects to the edge hub and installs the message handler; returns the client."""
    from azure.iot.device import IoTHubModuleClient, Message

    client = IoTHubModuleClient.create_from_edge_environment()
    client.on_message_received = lambda message: handle_message(scorer, client, message, Message)
    client.connect()
    LOG.info("IoT Edge: scoring messages from input %s to output %s", INPUT_NAME, OUTPUT_NAME)
    return client
