/* elements.h — chemical symbols and standard atomic masses for Z = 1..118. */
#ifndef MLPOT_CORE_ELEMENTS_H
#define MLPOT_CORE_ELEMENTS_H

#define ELEMENT_MAX_Z 118

/* Symbol of element Z ("H", "He", ...); NULL when Z is outside 1..118. */
const char *element_symbol(int z);
/* Atomic number for a symbol, case-sensitive as written ("Si", not "SI" or "si");
   0 when unknown. Accepts exactly the symbol, no trailing characters. */
int element_from_symbol(const char *symbol);
/* Same but for a symbol that is the first `len` characters of `text` (not NUL-terminated). */
int element_from_symbol_n(const char *text, int len);
/* Standard atomic mass in unified atomic mass units (IUPAC conventional values;
   for elements without a standard atomic weight, the atomic mass of the longest-lived
   isotope, e.g. 97.90721 for Tc-98). 0 when Z is out of range. */
double element_mass_amu(int z);

#endif
