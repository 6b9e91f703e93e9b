"""The parts of the local Slack fake, one concept a module; tests import FakeSlack from tests.fakes.slack_api."""
