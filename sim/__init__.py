"""fpo_sim: the project's own MuJoCo/gymnasium environments (registered on import as ``fpo_sim/...``)."""

from gymnasium.envs.registration import register, registry

if "fpo_sim/GridWorld-v0" not in registry:
    register(id="fpo_sim/GridWorld-v0", entry_point="fpo_sim.gridworld:GridWorldEnv", max_episode_steps=50)
if "fpo_sim/HiddenGoal-v0" not in registry:
    register(id="fpo_sim/HiddenGoal-v0", entry_point="fpo_sim.hidden_goal:HiddenGoalEnv", max_episode_steps=10)
