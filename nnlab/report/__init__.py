"""Hand-in reports built from run files: report.md, a self-contained report.html, report.pdf
(with WeasyPrint), and TensorBoard export. Reads runs through nnlab.runs; never retrains."""
