"""The models of ../shared/data (see its README), as lists of paths to load together."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import shared_data_dir

DATA = shared_data_dir()

_G24 = "entsoe-cgmes-2.4.15"
_MG = f"{_G24}/MicroGrid/BaseCase/CGMES_v2.4.15_MicroGridTestConfiguration_"
_MINI_BD = f"{_G24}/MiniGrid/NodeBreaker/CGMES_v2.4.15_MiniGridTestConfiguration_Boundary_v3.zip"
_G30 = "entsoe-cgmes-3.0/MicroGrid-cas3-data-3.0.2"
_T3 = "entsoe-cgmes-3.0/cgmes3-test-models"
_RCG = "entsoe-relicapgrid"
_CD = f"{_RCG}/CommonAndBoundaryData/Grid_CommonData_CGM-CD.xml"
_DIGIN = "elbits-telemark-120/DIGIN10-30-v2.x-CGMES3"

# model id -> globs (relative to DATA), loaded together
MODELS: dict[str, tuple[str, ...]] = {
    "microgrid-be": (f"{_MG}BC_BE_v2.zip", f"{_MG}BD_v2.zip"),
    "microgrid-nl": (f"{_MG}BC_NL_v2.zip", f"{_MG}BD_v2.zip"),
    "microgrid-assembled": (f"{_MG}BC_Assembled_v2.zip", f"{_MG}BD_v2.zip"),
    "microgrid-t4-nb": (f"{_G24}/MicroGrid/Type4_T4/*T4_BE_NB_Complete_v2.zip", f"{_MG}BD_v2.zip"),
    "minigrid-bb": (f"{_G24}/MiniGrid/BusBranch/*BaseCase_v3.zip", _MINI_BD),
    "minigrid-nb": (f"{_G24}/MiniGrid/NodeBreaker/*BaseCase_Complete_v3.zip", _MINI_BD),
    "minigrid-t1": (f"{_G24}/MiniGrid/Type1_T1/*T1_Complete_v3.zip", _MINI_BD),
    "smallgrid-bb": (f"{_G24}/SmallGrid/BusBranch/*.zip",),
    "fullgrid-bb": (f"{_G24}/FullGrid/*BB_BE_v1.zip", f"{_G24}/FullGrid/*BD_v1.zip"),
    "fullgrid-nb": (f"{_G24}/FullGrid/*NB_BE_v3.zip", f"{_G24}/FullGrid/*BD_v1.zip"),
    "microgrid3-be": (f"{_G30}/MicroGrid-BE-MAS/*.xml", f"{_G30}/MicroGrid-BD-MAS/*EQ_BD_2.xml"),
    "microgrid3-nl": (f"{_G30}/MicroGrid-NL-MAS/*.xml", f"{_G30}/MicroGrid-BD-MAS/*EQ_BD_2.xml"),
    "microgrid3-merged": (
        *(f"{_G30}/MicroGrid-{c}-MAS/*_{p}_*.xml" for c in ("BE", "NL") for p in ("EQ", "SSH", "GL", "DY")),
        f"{_G30}/MicroGrid-BaseCase-Merged/*.xml",
        f"{_G30}/MicroGrid-BD-MAS/*EQ_BD_2.xml",
    ),
    "microgrid3-2021": (f"{_T3}/MicroGrid/*.xml",),
    "minigrid3-2021": (f"{_T3}/MiniGrid/*.xml",),
    "smallgrid3-2021": (f"{_T3}/SmallGrid_*.zip",),
    "belgovia": (
        f"{_RCG}/IGM_Belgovia/*.xml",
        f"{_RCG}/CommonAndBoundaryData/Boundary_Border-Galia-Belgovia.xml",
        f"{_RCG}/CommonAndBoundaryData/Boundary_Border-Svedala-Belgovia.xml",
        _CD,
    ),
    "galia": (f"{_RCG}/IGM_Galia/*.xml", f"{_RCG}/CommonAndBoundaryData/Boundary_Border-Galia-[BN]*.xml", _CD),
    "britheim": (f"{_RCG}/IGM_Britheim/*.xml", f"{_RCG}/CommonAndBoundaryData/Boundary_Border-Galia-Britheim.xml", _CD),
    "nordheim": (f"{_RCG}/IGM_Nordheim/*.xml", f"{_RCG}/CommonAndBoundaryData/Boundary_Border-Galia-Nordheim.xml", _CD),
    "ieee13": ("cimhub-gridappsd/model_output_tests/IEEE13.xml",),
    "ieee13-assets": ("cimhub-gridappsd/model_output_tests/IEEE13_Assets.xml",),
    "acep-psil": ("cimhub-gridappsd/model_output_tests/ACEP_PSIL.xml",),
    "j1red": ("cimhub-gridappsd/CPYDAR/j1red.xml",),
    "ieee4-xfmr": ("cimhub-gridappsd/ieee4/xfmr_examples.zip",),
    "ieee13-cdpsm-split": ("cimhub-gridappsd/example_uvm_IEEE13_CDPSM/ieee13cdpsm_*.XML",),
    "ieee13-cdpsm": ("cimhub-gridappsd/example_uvm_IEEE13_CDPSM/ieee13cdpsm.xml",),
    "cigre-mv-neplan": ("cimpy-sogno/master/CIGRE_MV/*.xml",),
    "cigre-mv-cimpy": ("cimpy-sogno/master/CIGREMV_reference_cimpy_export/*.xml",),
    "switches-bb": ("cimpy-sogno/master/Sample_Grid_Switches/Bus-Branch/*.xml",),
    "switches-nb": ("cimpy-sogno/master/Sample_Grid_Switches/Node-Breaker/*.xml",),
    "simbench-lv-3.0": ("cimpy-sogno/branch-cgmes3/CIM_LV_Simbench_Grid/*.xml",),
    "simbench-lv-2.4.15": ("cimpy-sogno/commit-0b0ed7d-cimpy_3/LV_SIMBENCH_2_4_15/*.xml",),
    "simbench-lv-3.0-dy": ("cimpy-sogno/commit-0b0ed7d-cimpy_3/LV_SIMBENCH_3_0/*.xml",),
    "pandapower-multivoltage": ("pandapower-cim/example_multivoltage.zip",),
    "pandapower-minigrid-variant": ("pandapower-cim/variants/*.zip", _MINI_BD),
    "digin10-mv-lv": (f"{_DIGIN}/*.xml",),
    "digin10-lv": (f"{_DIGIN}/*-LV1_*.xml", f"{_DIGIN}/*MV1-LV1_*.xml", f"{_DIGIN}/*_RD.xml"),
}

MESHED = ("microgrid-be", "microgrid-assembled", "minigrid-bb", "minigrid-nb", "smallgrid-bb", "smallgrid3-2021")
RADIAL = ("simbench-lv-3.0", "simbench-lv-2.4.15", "cigre-mv-neplan", "cigre-mv-cimpy", "digin10-lv")


def model_paths(model: str) -> list[Path]:
    """The files of a model, sorted; empty when the shared data is not there."""
    if DATA is None:
        return []
    found: dict[Path, None] = {}
    for pattern in MODELS[model]:
        found.update(dict.fromkeys(sorted(DATA.glob(pattern))))
    return list(found)
