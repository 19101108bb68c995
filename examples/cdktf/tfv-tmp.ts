process.env.CDKTF_OUTDIR = '/tmp/tfex/out';
require('./main');
