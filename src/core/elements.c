/* elements.c — symbols and masses (u) of elements 1..118, indexed by Z - 1. Masses: IUPAC standard
 * atomic weights, conventional values (Meija et al., Pure Appl. Chem. 88, 265 (2016); as in ASE);
 * for elements without a standard atomic weight, the atomic mass of the longest-lived isotope. */
#include "core/elements.h"

#include <stddef.h>
#include <string.h>

typedef struct {
    const char *symbol;
    double mass;
} element_info;

static const element_info elements[] = {
    {"H", 1.008},         /*   1 */
    {"He", 4.002602},     /*   2 */
    {"Li", 6.94},         /*   3 */
    {"Be", 9.0121831},    /*   4 */
    {"B", 10.81},         /*   5 */
    {"C", 12.011},        /*   6 */
    {"N", 14.007},        /*   7 */
    {"O", 15.999},        /*   8 */
    {"F", 18.998403163},  /*   9 */
    {"Ne", 20.1797},      /*  10 */
    {"Na", 22.98976928},  /*  11 */
    {"Mg", 24.305},       /*  12 */
    {"Al", 26.9815385},   /*  13 */
    {"Si", 28.085},       /*  14 */
    {"P", 30.973761998},  /*  15 */
    {"S", 32.06},         /*  16 */
    {"Cl", 35.45},        /*  17 */
    {"Ar", 39.948},       /*  18 */
    {"K", 39.0983},       /*  19 */
    {"Ca", 40.078},       /*  20 */
    {"Sc", 44.955908},    /*  21 */
    {"Ti", 47.867},       /*  22 */
    {"V", 50.9415},       /*  23 */
    {"Cr", 51.9961},      /*  24 */
    {"Mn", 54.938044},    /*  25 */
    {"Fe", 55.845},       /*  26 */
    {"Co", 58.933194},    /*  27 */
    {"Ni", 58.6934},      /*  28 */
    {"Cu", 63.546},       /*  29 */
    {"Zn", 65.38},        /*  30 */
    {"Ga", 69.723},       /*  31 */
    {"Ge", 72.63},        /*  32 */
    {"As", 74.921595},    /*  33 */
    {"Se", 78.971},       /*  34 */
    {"Br", 79.904},       /*  35 */
    {"Kr", 83.798},       /*  36 */
    {"Rb", 85.4678},      /*  37 */
    {"Sr", 87.62},        /*  38 */
    {"Y", 88.90584},      /*  39 */
    {"Zr", 91.224},       /*  40 */
    {"Nb", 92.90637},     /*  41 */
    {"Mo", 95.95},        /*  42 */
    {"Tc", 97.90721},     /*  43 */
    {"Ru", 101.07},       /*  44 */
    {"Rh", 102.9055},     /*  45 */
    {"Pd", 106.42},       /*  46 */
    {"Ag", 107.8682},     /*  47 */
    {"Cd", 112.414},      /*  48 */
    {"In", 114.818},      /*  49 */
    {"Sn", 118.71},       /*  50 */
    {"Sb", 121.76},       /*  51 */
    {"Te", 127.6},        /*  52 */
    {"I", 126.90447},     /*  53 */
    {"Xe", 131.293},      /*  54 */
    {"Cs", 132.90545196}, /*  55 */
    {"Ba", 137.327},      /*  56 */
    {"La", 138.90547},    /*  57 */
    {"Ce", 140.116},      /*  58 */
    {"Pr", 140.90766},    /*  59 */
    {"Nd", 144.242},      /*  60 */
    {"Pm", 144.91276},    /*  61 */
    {"Sm", 150.36},       /*  62 */
    {"Eu", 151.964},      /*  63 */
    {"Gd", 157.25},       /*  64 */
    {"Tb", 158.92535},    /*  65 */
    {"Dy", 162.5},        /*  66 */
    {"Ho", 164.93033},    /*  67 */
    {"Er", 167.259},      /*  68 */
    {"Tm", 168.93422},    /*  69 */
    {"Yb", 173.054},      /*  70 */
    {"Lu", 174.9668},     /*  71 */
    {"Hf", 178.49},       /*  72 */
    {"Ta", 180.94788},    /*  73 */
    {"W", 183.84},        /*  74 */
    {"Re", 186.207},      /*  75 */
    {"Os", 190.23},       /*  76 */
    {"Ir", 192.217},      /*  77 */
    {"Pt", 195.084},      /*  78 */
    {"Au", 196.966569},   /*  79 */
    {"Hg", 200.592},      /*  80 */
    {"Tl", 204.38},       /*  81 */
    {"Pb", 207.2},        /*  82 */
    {"Bi", 208.9804},     /*  83 */
    {"Po", 208.98243},    /*  84 */
    {"At", 209.98715},    /*  85 */
    {"Rn", 222.01758},    /*  86 */
    {"Fr", 223.01974},    /*  87 */
    {"Ra", 226.02541},    /*  88 */
    {"Ac", 227.02775},    /*  89 */
    {"Th", 232.0377},     /*  90 */
    {"Pa", 231.03588},    /*  91 */
    {"U", 238.02891},     /*  92 */
    {"Np", 237.04817},    /*  93 */
    {"Pu", 244.06421},    /*  94 */
    {"Am", 243.06138},    /*  95 */
    {"Cm", 247.07035},    /*  96 */
    {"Bk", 247.07031},    /*  97 */
    {"Cf", 251.07959},    /*  98 */
    {"Es", 252.083},      /*  99 */
    {"Fm", 257.09511},    /* 100 */
    {"Md", 258.09843},    /* 101 */
    {"No", 259.101},      /* 102 */
    {"Lr", 262.11},       /* 103 */
    {"Rf", 267.122},      /* 104 */
    {"Db", 268.126},      /* 105 */
    {"Sg", 271.134},      /* 106 */
    {"Bh", 270.133},      /* 107 */
    {"Hs", 269.1338},     /* 108 */
    {"Mt", 278.156},      /* 109 */
    {"Ds", 281.165},      /* 110 */
    {"Rg", 281.166},      /* 111 */
    {"Cn", 285.177},      /* 112 */
    {"Nh", 286.182},      /* 113 */
    {"Fl", 289.19},       /* 114 */
    {"Mc", 289.194},      /* 115 */
    {"Lv", 293.204},      /* 116 */
    {"Ts", 293.208},      /* 117 */
    {"Og", 294.214},      /* 118 */
};

_Static_assert(sizeof elements / sizeof elements[0] == ELEMENT_MAX_Z,
               "element table must have ELEMENT_MAX_Z entries");

const char *element_symbol(int z) {
    if (z < 1 || z > ELEMENT_MAX_Z)
        return NULL;
    return elements[z - 1].symbol;
}

int element_from_symbol_n(const char *text, int len) {
    /* Every symbol is one or two characters long. */
    if (text == NULL || len < 1 || len > 2)
        return 0;
    for (int z = 1; z <= ELEMENT_MAX_Z; z++) {
        const char *sym = elements[z - 1].symbol;
        if (strlen(sym) == (size_t)len && memcmp(sym, text, (size_t)len) == 0)
            return z;
    }
    return 0;
}

int element_from_symbol(const char *symbol) {
    if (symbol == NULL)
        return 0;
    /* Look at no more than 3 characters, so a long string costs nothing and fails. */
    size_t len = 0;
    while (len < 3 && symbol[len] != '\0')
        len++;
    return element_from_symbol_n(symbol, (int)len);
}

double element_mass_amu(int z) {
    if (z < 1 || z > ELEMENT_MAX_Z)
        return 0.0;
    return elements[z - 1].mass;
}
