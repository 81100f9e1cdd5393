"""``ros2 launch fpo_ros policy.launch.py model_path:=policy.onnx [num_steps:=4] [use_sim:=true] ...``.

Only turns ``fpo_ros.launch_config`` (arguments, nodes, parameters, remappings) into launch actions.
"""

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from fpo_ros.launch_config import ARGUMENTS, describe


def _nodes(context: LaunchContext) -> list[Node]:
    values = {a.name: LaunchConfiguration(a.name).perform(context) for a in ARGUMENTS}
    return [Node(package=d.package, executable=d.executable, name=d.name, namespace=d.namespace,
                 parameters=[d.parameters], remappings=d.remappings, output=d.output,
                 **({"on_exit": Shutdown(reason=f"{d.name} finished")} if d.ends_launch else {})) for d in describe(values)]


def generate_launch_description() -> LaunchDescription:
    args = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description,
                                  **({"choices": list(a.choices)} if a.choices else {})) for a in ARGUMENTS]
    return LaunchDescription([*args, OpaqueFunction(function=_nodes)])
