"""Partner plugins shipped with ccas-network. Each registers through the
``ccas_network.plugins`` entry point, exactly as a third-party plugin would."""
