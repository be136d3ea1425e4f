# a gzip/gunzip round trip of big.txt (about 1 MiB), through files and pipes
mkdir z
md5sum <big.txt
gzip -c big.txt >z/big.gz
gunzip -c z/big.gz | md5sum
cp big.txt z/b2.txt
gzip z/b2.txt
ls -1 z
gunzip z/b2.txt.gz
md5sum <z/b2.txt
cat big.txt | gzip | gunzip | wc -c
rm -r z
