#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Regenerates the NumPy-written fixtures of tests/solver (run by hand; CI only
# reads the files). NumPy writes Zip64 local headers (force_zip64), which the
# reader must handle.
import json, os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
arrays = dict(
    a=np.arange(6, dtype='<f8').reshape(2, 3) / 7,
    b=np.array([1.5, -2.25], dtype='<f4'),
    c=np.array([[1, -2], [3, 4]], dtype='<i8'),
    d=np.array([True, False, True]),
    e=np.array([-7, 8], dtype='<i4'),
    s=np.array('discrete'),
    n=np.array(11),
    rho=np.array(7.0),
)
np.savez(os.path.join(here, 'numpy-stored.npz'), **arrays)
np.savez_compressed(os.path.join(here, 'numpy-deflated.npz'), **arrays)

# A table as the reference implementation exchanges it.
t = json.load(open(os.path.join(here, '../../../data/tables/sd15-best.json')))
np.savez(os.path.join(here, 'reference-sd15-best.npz'),
         r=np.array(t['r']), weight=np.array(t['weight']),
         num_steps=t['num_steps'], num_points=t['num_points'],
         schedule_type=t['schedule_type'], schedule_rho=t['schedule_rho'])
