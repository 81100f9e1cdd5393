"""DDS discovery stays on loopback on Humble (ROS_LOCALHOST_ONLY) and later (ROS_AUTOMATIC_DISCOVERY_RANGE)."""


def test_discovery_stays_on_loopback_on_every_distribution():
    from fpo_ros.discovery import loopback_env

    assert loopback_env({"ROS_DISTRO": "jazzy"}) == {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    assert loopback_env({"ROS_DISTRO": "humble"}) == {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_LOCALHOST_ONLY": "1"}
