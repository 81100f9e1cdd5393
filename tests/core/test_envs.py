"""What fpo_core.envs reads from an environment: the names of the joints its actions drive."""

from types import SimpleNamespace

import mujoco

from fpo_core.envs import joint_names

MODEL = """
<mujoco><worldbody><body><joint name="hinge_a"/><geom size=".1"/><site name="s"/>
  <body pos="0 0 1"><joint name="hinge_b"/><geom size=".1"/></body></body></worldbody>
  <tendon><fixed name="t"><joint joint="hinge_a" coef="1"/></fixed></tendon>
  <actuator><motor tendon="t"/><motor joint="hinge_b"/><motor site="s" gear="1 0 0 0 0 0"/></actuator></mujoco>"""


def test_joint_names_only_name_joints_an_actuator_drives():
    """A tendon or site actuator drives no joint of its own: it must not borrow one's name (the sim would publish it)."""
    model = mujoco.MjModel.from_xml_string(MODEL)
    assert joint_names(SimpleNamespace(model=model), 3) == ["joint_0", "hinge_b", "joint_2"]


def test_the_sim_publishes_the_joints_it_finds():
    """A tendon actuator's ``joint_<i>`` is no joint: the other joints' states are still published."""
    import pytest

    pytest.importorskip("rclpy", reason="fpo_ros.sim_node needs rclpy")
    from fpo_ros.sim_node import joint_addresses, joint_readings

    model = mujoco.MjModel.from_xml_string(MODEL)
    data = mujoco.MjData(model)
    data.ctrl[:] = 0.5
    mujoco.mj_forward(model, data)
    joints = joint_addresses(model, joint_names(SimpleNamespace(model=model), 3))
    assert [name for name, _, _ in joints] == ["hinge_b"]
    assert joint_readings(data, joints)[2] == [0.5]
