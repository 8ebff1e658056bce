"""Applications on top of the power flow: hosting capacity, connection assessment, Volt-VAR control."""
