"""One ament_python package, ``fpo_ros``, that also installs ``fpo_core`` and ``fpo_sim``.

Works with ``colcon build`` in a ROS 2 workspace and with ``pip install -e .`` outside one.
torch is not pinned here: users with CUDA keep their own build (the bootstrap pins a CPU one).
"""

from glob import glob

from setuptools import setup

package_name = "fpo_ros"

setup(
    name=package_name,
    version="0.1.0",
    packages=["fpo_core", "fpo_core.algorithms", "fpo_ros", "fpo_sim"],
    package_dir={"fpo_sim": "sim"},
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml"]),
        ("share/" + package_name + "/launch", glob("launch/*.launch.py")),
    ],
    python_requires=">=3.10",
    install_requires=[
        "numpy",
        "gymnasium[mujoco]>=1.0",
        "mujoco>=3.0",
        "onnx",
        "onnxruntime",
        "onnxscript",
        "tyro",
        "pyyaml",
        "tqdm",
        "matplotlib",
        "tensorboard",
        "imageio",
        "imageio-ffmpeg",
    ],
    extras_require={
        # ROS 2 (Kilted) from PyPI, for machines without an apt-installed ROS. Never a default.
        "ros": ["ros-rclpy[fastrtps]", "ros-std-msgs", "ros-sensor-msgs", "ros-diagnostic-msgs", "ros-rcl-interfaces"],
        "dev": ["pytest", "pytest-timeout"],
    },
    zip_safe=True,
    maintainer="fpo team",
    maintainer_email="fpo@example.com",
    description="Flow policies (FPO) trained in MuJoCo and deployed through ROS 2",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "fpo = fpo_core.cli:main",
            "policy_node = fpo_ros.policy_node:main",
            "sim_node = fpo_ros.sim_node:main",
        ],
    },
)
