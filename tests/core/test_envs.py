"""What fpo_core.envs reads from an environment: the names of the joints its actions drive."""


def test_joint_names_only_name_joints_an_actuator_drives():
    """A tendon or site actuator drives no joint of its own: it must not borrow one's name (the sim would publish it)."""
    from types import SimpleNamespace

    import mujoco

    from fpo_core.envs import joint_names

    model = mujoco.MjModel.from_xml_string("""
    <mujoco><worldbody><body><joint name="hinge_a"/><geom size=".1"/><site name="s"/>
      <body pos="0 0 1"><joint name="hinge_b"/><geom size=".1"/></body></body></worldbody>
      <tendon><fixed name="t"><joint joint="hinge_a" coef="1"/></fixed></tendon>
      <actuator><motor tendon="t"/><motor joint="hinge_b"/><motor site="s" gear="1 0 0 0 0 0"/></actuator></mujoco>""")
    assert joint_names(SimpleNamespace(model=model), 3) == ["joint_0", "hinge_b", "joint_2"]
