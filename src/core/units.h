/* units.h — unit conversions (formats.md: energies eV, lengths Å, stress eV/Å^3). */
#ifndef MLPOT_CORE_UNITS_H
#define MLPOT_CORE_UNITS_H

/* 1 eV/Å^3 in GPa (CODATA 2014 elementary charge, as ASE's units.GPa) */
#define EV_PER_A3_IN_GPA 160.21766208

#endif
