"""RunnerView: the port the host is configured with (host view) kept apart from where the runner
connects (the inventory: cwh_web_url, cwh_probe_address, cwh_relay_port, cwh_port_map), for the
NAT cases the README describes."""

from __future__ import annotations

import json

import pytest

from cwh.catalog.model import load_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.inventory import ConnectionSettings, Target
from cwh.lab.emulator import encode_document, run_collector
from cwh.lab.image import Image, load_image
from cwh.probes.runner import NO_HOST_ACCESS, RunnerView

CATALOG = load_catalog()
ADDRESS = "203.0.113.10"


def facts_for(image: Image) -> HostFacts:
    request = json.loads(request_for(CATALOG.controls).to_json())
    return HostFacts("h", parse_output(encode_document(run_collector(image, request)), b"", 0))


def with_listeners(web: str, relay: str = "relay://+:8041/") -> HostFacts:
    image = load_image("hardened")
    text = image.data["screenconnect"]["web_config_text"]
    text = text.replace('value="https://+:8040/"', f'value="{web}"')
    text = text.replace('value="relay://+:8041/"', f'value="{relay}"')
    return facts_for(Image("x", image.path, {**image.data, "screenconnect": {
        **image.data["screenconnect"], "web_config_text": text}}))


HARDENED = with_listeners("https://+:8040/")


def view(facts: HostFacts = HARDENED, **variables) -> RunnerView:
    settings = ConnectionSettings(name="h", address="10.20.30.11", port=5985, scheme="http",
                                  transport="ntlm", user="auditor", password="x")
    return RunnerView(Target("h", (), settings, variables), facts)


def test_no_inventory_hints_probe_the_configured_listener_at_the_host_address():
    runner = view()
    web, listener, relay = runner.web(), runner.web_listener(), runner.relay()
    assert (web.url, web.address, web.connect_port) == ("https://10.20.30.11:8040/",
                                                        "10.20.30.11", 8040)
    assert listener == web
    assert (relay.port, relay.connect_port) == (8041, 8041)
    assert runner.web_config().port == 8040 and runner.relay_config().port == 8041


def test_same_port_nat_connects_to_the_probe_address_with_the_public_name():
    runner = view(cwh_web_url="https://support.example.com:8040/", cwh_probe_address=ADDRESS)
    web = runner.web()
    assert (web.host, web.address, web.port, web.connect_port) == \
        ("support.example.com", ADDRESS, 8040, 8040)
    assert "reached at 203.0.113.10:8040" in web.describe()
    assert runner.web_listener().connect_port == 8040
    assert runner.relay().address == ADDRESS


def test_port_forward_keeps_the_configured_ports_for_the_host_view():
    runner = view(cwh_web_url="https://support.example.com/", cwh_probe_address=ADDRESS,
                  cwh_relay_port=18041)
    assert runner.web_config().port == 8040  # the binding and firewall are judged here
    assert runner.relay_config().port == 8041
    web, listener, relay = runner.web(), runner.web_listener(), runner.relay()
    assert (web.address, web.connect_port) == (ADDRESS, 443)
    # Same scheme and no front end declared: the URL reaches the listener itself.
    assert (listener.address, listener.connect_port) == (ADDRESS, 443)
    assert "cwh_web_url reaches the listener" in listener.origin
    assert (relay.address, relay.connect_port) == (ADDRESS, 18041)
    assert "inventory cwh_relay_port" in relay.origin


def test_port_map_maps_configured_ports_to_reached_ones():
    runner = view(cwh_web_url="https://support.example.com/", cwh_probe_address=ADDRESS,
                  cwh_port_map={8040: 8443, 8041: 18041, 445: 10445})
    assert runner.web_listener().connect_port == 8443
    assert "per cwh_port_map" in runner.relay().describe()
    assert runner.relay().connect_port == 18041
    assert runner.port_endpoint(445).connect_port == 10445


def test_reverse_proxy_reaches_the_front_end_and_judges_the_loopback_listener():
    facts = with_listeners("http://127.0.0.1:8040/")
    runner = view(facts, cwh_web_url="https://support.example.com/", cwh_probe_address=ADDRESS,
                  cwh_tls_front_end=True)
    config = runner.web_config()
    assert (config.scheme, config.port, config.loopback) == ("http", 8040, True)
    listener = runner.web_listener()
    assert (listener.scheme, listener.connect_port) == ("https", 443)
    assert "front end" in listener.origin


def test_a_url_of_another_scheme_is_not_taken_for_the_listener():
    """http listener, https URL, no front end declared: something in between terminates TLS,
    so the listener itself is probed where it is configured."""
    facts = with_listeners("http://+:8040/")
    runner = view(facts, cwh_web_url="https://support.example.com/")
    listener = runner.web_listener()
    assert (listener.scheme, listener.address, listener.connect_port) == \
        ("http", "10.20.30.11", 8040)


def test_a_network_only_host_reads_no_configuration():
    settings = ConnectionSettings(name="n", address=ADDRESS, port=0, scheme="", transport="",
                                  user="")
    target = Target("n", (), settings, {"cwh_access": "network",
                                        "cwh_web_url": "https://support.example.com/"})
    runner = RunnerView(target, HARDENED)  # facts there or not, they are never read
    assert runner.web_config().unknown == NO_HOST_ACCESS
    assert runner.web().url == "https://support.example.com/"
    relay = runner.relay()
    assert relay.connect_port == 8041 and "only assumed" in relay.assumed and not relay.unknown


@pytest.mark.parametrize("key", ["WebServerListenUri", "RelayListenUri"])
def test_an_unreadable_configuration_is_unknown_not_a_default(key):
    image = load_image("hardened")
    facts = facts_for(Image("x", image.path, {**image.data, "screenconnect": {
        **image.data["screenconnect"], "web_config_text": None}}))
    runner = view(facts, cwh_web_url="https://support.example.com/", cwh_relay_port=18041)
    config = runner.web_config() if key == "WebServerListenUri" else runner.relay_config()
    assert config.unknown and config.key == key
    # The runner still knows where to connect: the inventory says so.
    assert not runner.web().unknown and not runner.relay().unknown
